//! The project model (DESIGN.md "The project model"): what one file may ask of the others.

pub mod settings;
