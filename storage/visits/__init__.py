"""Home visits: one stop of a car at a patient's address, with its exams, payers and confirmation."""
