//! See the crate documentation for this stage's place in the pipeline.
