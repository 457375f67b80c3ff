//! The program's one sort. `slice::sort_by` and its kin compile a copy of the standard
//! library's sort (about 4 KB) for every element type and comparison they are called with;
//! with twenty call sites that was 70 KB of the binary (SPEC §1, every binary ≤ 2.0 MiB).
//! Here the sort itself runs once, on positions (`usize`) compared through a `&dyn Fn`, and
//! the elements are then moved into that order by swaps: each call site adds only its
//! comparison and a swap.
//!
//! The results are the standard library's: stable (equal elements keep their order), so
//! [`sort_by`] is `slice::sort_by`, [`sort_by_key`] is `slice::sort_by_key` and [`sort`] is
//! `slice::sort` — and, for elements whose equal values are indistinguishable (numbers,
//! strings, addresses), also `sort_unstable`. Sorting stays O(n log n); a comparison costs
//! one indirect call more.
//!
//! At the bottom of the crate (it imports nothing), so `kamal/` may use it too.

use std::cmp::Ordering;

/// `v.sort()`: ascending, stable.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// `v.sort_by_key(key)`: ascending by `key`, stable.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// `v.sort_by(compare)`: stable.
pub fn sort_by<T>(v: &mut [T], compare: impl Fn(&T, &T) -> Ordering) {
    let mut order = positions(v.len(), &|a, b| compare(&v[a], &v[b]));
    permute(&mut order, &mut |a, b| v.swap(a, b));
}

/// The positions `0..len` in the order `compare` gives them (stable).
fn positions(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

/// Rearrange through `swap` so that position `k` holds what was at `order[k]`: each cycle
/// of the permutation is walked once (`order` is used up to mark the positions done).
fn permute(order: &mut [usize], swap: &mut dyn FnMut(usize, usize)) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = std::mem::replace(&mut order[at], DONE);
            if from == start {
                break;
            }
            // `start`'s old element travels along the cycle; `at` gets its own one.
            swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic pseudo-random numbers (no crate): xorshift.
    fn numbers(seed: u64, n: usize, range: u64) -> Vec<u64> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % range
            })
            .collect()
    }

    #[test]
    fn sorts_as_the_standard_library_does_and_stays_stable() {
        for (seed, n, range) in [(1, 0, 1), (2, 1, 1), (3, 2, 2), (4, 17, 5), (5, 300, 40)] {
            let all = numbers(seed, n, range);
            // Every short prefix, and the whole list.
            for len in (0..=n.min(40)).chain([n]) {
                // (key, original position): equal keys must keep their order.
                let base: Vec<(u64, usize)> = all[..len].iter().copied().zip(0..).collect();
                let mut ours = base.clone();
                sort_by_key(&mut ours, |p| p.0);
                let mut std = base.clone();
                std.sort_by_key(|p| p.0);
                assert_eq!(ours, std, "seed {seed}, len {len}");
                let mut whole = base.clone();
                sort(&mut whole);
                let mut std = base;
                std.sort();
                assert_eq!(whole, std, "seed {seed}, len {len}");
            }
        }
    }

    #[test]
    fn sort_by_takes_the_comparison_as_given() {
        let mut words = vec!["pear", "fig", "apple", "kiwi", "date"];
        sort_by(&mut words, |a, b| b.len().cmp(&a.len()));
        assert_eq!(words, ["apple", "pear", "kiwi", "date", "fig"]);
    }

    #[test]
    fn moves_owned_values_without_losing_or_doubling_any() {
        let mut names: Vec<String> = ["c", "a", "d", "b", "a"].map(String::from).to_vec();
        sort(&mut names);
        assert_eq!(names, ["a", "a", "b", "c", "d"]);
    }
}
