//! Item readers (being written).
