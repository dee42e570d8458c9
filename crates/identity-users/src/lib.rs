//! identity-users (being built).
