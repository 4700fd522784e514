//! The policy file (`vetted.toml`).
