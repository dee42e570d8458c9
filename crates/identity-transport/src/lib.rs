//! identity-transport (being built).
