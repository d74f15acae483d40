"""The people who run the day: drivers, collectors, and the team of a car for a day."""
