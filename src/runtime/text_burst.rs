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

    /// The texts, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        (0..self.ends.len()).map(|i| {
            let from = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.text[from..self.ends[i]]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TextBurst;

    #[test]
    fn keeps_each_text_apart_and_in_order() {
        let mut burst = TextBurst::default();
        ["a", "", "é😀", "bc"]
            .into_iter()
            .for_each(|t| burst.push(t));
        assert_eq!(burst.iter().len(), 4);
        assert_eq!(burst.iter().collect::<Vec<_>>(), ["a", "", "é😀", "bc"]);
        assert_eq!(burst.joined(), "aé😀bc");
        assert_eq!(TextBurst::default().iter().len(), 0);
        burst.clear();
        burst.push("z");
        assert_eq!(burst.iter().collect::<Vec<_>>(), ["z"]);
    }
}
