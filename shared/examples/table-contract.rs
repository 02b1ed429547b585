//! Prints the table contract (keys, attributes, indexes, TTL) as CloudFormation names it, so
//! scripts/lint can check that template.yaml declares the same table the code writes.
//!
//!     cargo run -q -p zcc-shared --example table-contract

fn main() {
    println!("{}", zcc_shared::dynamodb::schema::contract());
}
