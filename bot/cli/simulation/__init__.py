"""`cohortbot simulate`: a whole program in virtual time, with simulated people."""
