//! identity-emulator (being built).
