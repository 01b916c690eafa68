//! The texts of a burst of streamed deltas, kept in one buffer.

/// Texts read from one burst of vendor lines, in order, in one buffer: a streamed answer is
/// hundreds of thousands of short texts, and one allocation each was a visible share of a relay.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TextBurst {
    text: String,
    /// Where each text ends in `text`.
    ends: Vec<usize>,
}

impl TextBurst {
    /// Room for `texts` texts of `bytes` bytes in all before it grows.
    pub fn with_capacity(texts: usize, bytes: usize) -> Self {
        TextBurst {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(texts),
        }
    }

    pub fn push(&mut self, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// The texts one after the other.
    pub fn joined(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The texts, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        (0..self.ends.len()).map(|i| {
            let from = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.text[from..self.ends[i]]
        })
    }
}

impl<'a> FromIterator<&'a str> for TextBurst {
    fn from_iter<I: IntoIterator<Item = &'a str>>(texts: I) -> Self {
        let mut burst = TextBurst::default();
        texts.into_iter().for_each(|t| burst.push(t));
        burst
    }
}

#[cfg(test)]
mod tests {
    use super::TextBurst;

    #[test]
    fn keeps_each_text_apart_and_in_order() {
        let burst: TextBurst = ["a", "", "é😀", "bc"].into_iter().collect();
        assert_eq!(burst.len(), 4);
        assert_eq!(burst.iter().collect::<Vec<_>>(), ["a", "", "é😀", "bc"]);
        assert_eq!(burst.joined(), "aé😀bc");
        assert!(TextBurst::default().is_empty());
        let mut burst = burst;
        burst.clear();
        burst.push("z");
        assert_eq!(burst.iter().collect::<Vec<_>>(), ["z"]);
    }
}
