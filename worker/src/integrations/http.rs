//! HTTP Task (being written).
