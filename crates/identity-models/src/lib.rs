//! identity-models (being built).
