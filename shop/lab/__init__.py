"""Laboratory results of lots: the CoA values as reported, and the rules that read and judge them."""
