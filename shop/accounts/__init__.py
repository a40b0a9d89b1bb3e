"""Accounts: people and the companies they buy for, members and their roles, API keys, passwords, staff users.

Reading order: `models` (Company, Customer, ApiKey, StaffUser), `people` (sign-up, sign-in, keys), `companies`
(members, roles, terms), `passwords` and `links` (setting a password by a signed link)."""
