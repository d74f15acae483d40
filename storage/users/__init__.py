"""Staff accounts: e-mail, role, argon2 password hash, driver's car assignment."""
