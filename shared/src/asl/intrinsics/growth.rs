//! How big an intrinsic call's result can be, as a [`Growth`] of its arguments (see
//! [`crate::asl::bound`]). Each bound follows from what the function does; they are generous
//! on purpose, since a bound past the limit only costs one measurement.

use crate::asl::bound::{Growth, MAX_DEPTH};

use super::{Arg, Call, Func};

impl Call {
    /// An upper bound of the result's size and depth.
    pub fn growth(&self) -> Growth {
        let args = self.args.iter().map(|a| match a {
            Arg::Literal(v) => Growth::literal(v),
            Arg::Path(p) => Growth::of_path(p),
            Arg::Call(c) => c.growth(),
            Arg::Template(t) => Growth::literal(t.source()),
        });
        let all = args.fold(Growth::default(), Growth::plus);
        match self.func {
            // A string made of the arguments' text, escaped once more: at most twice as long.
            Func::Format | Func::JsonToString | Func::Base64Encode => all.times(2, 2).flat(0),
            // Every decoded byte may need a six-byte escape.
            Func::Base64Decode => all.times(6, 2).flat(0),
            // serde_json refuses anything deeper than MAX_DEPTH; numbers may print longer.
            Func::StringToJson => all.times(2, 2).flat(MAX_DEPTH),
            Func::Array => all.times(1, 2 + self.args.len()).deeper(1),
            // Each element may get its own brackets and commas.
            Func::ArrayPartition => all.times(3, 2).deeper(1),
            Func::ArrayGetItem | Func::ArrayUnique | Func::JsonMerge => all,
            // Each character may become `"c",` with an escape.
            Func::StringSplit => all.times(9, 2).flat(1),
            // At most 1,000 64-bit integers and their commas.
            Func::ArrayRange => Growth::fixed(21 * 1000 + 2, 1),
            Func::ArrayContains => Growth::fixed(5, 0),
            Func::ArrayLength | Func::MathRandom | Func::MathAdd => Growth::fixed(24, 0),
            Func::Hash => Growth::fixed(130, 0),
            Func::Uuid => Growth::fixed(38, 0),
        }
    }
}
