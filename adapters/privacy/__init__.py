"""Personal data under the AVG: keys per data subject (keyring), erasure (forget) and the
article-15 report of where a subject's data is."""
