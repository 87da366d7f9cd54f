//! Storage: buckets → locations (being written).
