-- Each caller's spend is read from the ledger now (its rows carry the
-- caller), where the cap is checked and reserved in the same transaction as
-- the tier's limits; a second tally here could only disagree with it.
DROP TABLE token_spend;
