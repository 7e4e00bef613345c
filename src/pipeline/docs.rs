//! Function docs as data.
