"""Quality: CoA results and how they are judged (`results`), signatures, release, rejection and recall of lots,
the certificate itself (`coa`) and the trace from a lot to every customer who received it."""
