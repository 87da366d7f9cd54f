//! The functions file (being written).
