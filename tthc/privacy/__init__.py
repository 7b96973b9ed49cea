"""Personal data: the key of the applicant hash (pii_key) and the retention of raw personal fields (retention)."""
