//! The closest valid name to a near miss, for messages ("did you mean 'putItem'?").

/// The candidate nearest to `word` by edit distance (case differences cost nothing extra
/// beyond one edit each), if it is near enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    nearest_within(word, candidates, (word.chars().count() / 3).max(1))
}

/// The candidate nearest to `word`, at most `limit` edits away.
pub fn nearest_within<'a>(word: &str, candidates: impl Iterator<Item = &'a str>, limit: usize) -> Option<&'a str> {
    candidates
        .map(|c| (distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// `; did you mean 'x'?`, or nothing.
pub fn hint(near: Option<&str>) -> String {
    near.map(|n| format!(" (did you mean '{n}'?)")).unwrap_or_default()
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_and_far_ones() {
        assert_eq!(distance("kitten", "sitting"), 3);
        let names = ["putItem", "getItem", "updateItem", "deleteItem"];
        assert_eq!(nearest("putitem", names.into_iter()), Some("putItem"));
        assert_eq!(nearest("PutItem", names.into_iter()), Some("putItem"));
        assert_eq!(nearest("scan", names.into_iter()), None);
    }
}
