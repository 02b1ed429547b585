//! The crate's one integration-test binary: each module a file of tests, so the SDK and
//! dynoxide link once (as zero-to-production's tests/api/).

mod stream;
