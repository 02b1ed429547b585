//! The crate's one integration-test binary (the SDK and dynoxide link once): the handler
//! against the Zoom API stand-in and dynoxide, and the shipped binary as Lambda runs it.

mod binary;
mod common;
mod handler;
