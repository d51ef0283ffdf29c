//! The lsns `-Q` expression language: parsing never panics, and a parsed expression evaluates (to a result or
//! an evaluation error) on empty, numeric and text rows without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lsns::columns::{Column, Value};
use lsns::filter;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(expr) = filter::parse_filter(text) else {
        return;
    };
    let mut used = Vec::new();
    expr.columns(&mut used);
    let empty = Value::Empty;
    let int = Value::Int(4026531836);
    let string = Value::Str("root".to_string());
    let lines = Value::Lines(vec!["/run/netns/a".to_string(), "/x".to_string()]);
    let _ = expr.eval(&|_: Column| Some(&empty));
    let _ = expr.eval(&|_: Column| None);
    let _ = expr.eval(&|c: Column| Some(if c.is_number() { &int } else { &string }));
    let _ = expr.eval(&|_: Column| Some(&lines));
});
