fn main() {
    println!("auditor: under construction");
}
