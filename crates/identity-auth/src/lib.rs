//! identity-auth (being built).
