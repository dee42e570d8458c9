//! finbourne-identity (being built).
