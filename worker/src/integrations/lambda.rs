//! Lambda integrations (being written).
