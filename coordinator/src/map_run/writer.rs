//! ResultWriter (being written).
