use std::collections::HashMap;

/// Many topic filters, each tagged with an id, matched against a topic in one
/// walk over its levels instead of one [`matches`](crate::matches) per filter.
///
/// The cost of a lookup depends on the topic's depth and on how many filters
/// actually match, not on how many filters are stored.
///
/// ```
/// use exhook_topic::FilterIndex;
///
/// let mut index = FilterIndex::new();
/// index.insert("sensors/#", 0);
/// index.insert("sensors/+/temp", 1);
/// index.insert("alerts", 2);
///
/// let mut hits = Vec::new();
/// index.for_each_match("sensors/kitchen/temp", |id| hits.push(id));
/// hits.sort();
/// assert_eq!(hits, [0, 1]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct FilterIndex {
    root: Node,
    len: usize,
}

#[derive(Debug, Default, Clone)]
struct Node {
    literal: Children,
    plus: Option<Box<Node>>,
    /// Ids of filters that end with `#` right below this node.
    hash: Vec<usize>,
    /// Ids of filters that end exactly at this node.
    end: Vec<usize>,
}

impl FilterIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many filters were inserted.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no filter was inserted.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `filter` under `id`. The same id may be used for several filters.
    /// Filters are not validated; an invalid one behaves as in
    /// [`matches`](crate::matches).
    pub fn insert(&mut self, filter: &str, id: usize) {
        let mut node = &mut self.root;
        let mut levels = filter.split('/').peekable();
        while let Some(level) = levels.next() {
            let last = levels.peek().is_none();
            node = match level {
                "#" if last => {
                    node.hash.push(id);
                    self.len += 1;
                    return;
                }
                "+" => node.plus.get_or_insert_with(Default::default),
                _ => node.literal.entry(level),
            };
        }
        node.end.push(id);
        self.len += 1;
    }

    /// Calls `hit` with the id of every filter that matches `topic`. An id
    /// comes once per matching filter, so ids shared by several filters may
    /// come more than once.
    pub fn for_each_match(&self, topic: &str, mut hit: impl FnMut(usize)) {
        let dollar = topic.starts_with('$');
        let mut levels = topic.split('/');
        let first = levels.next().unwrap_or("");
        if !dollar {
            self.root.hash.iter().copied().for_each(&mut hit);
            if let Some(plus) = &self.root.plus {
                plus.walk(levels.clone(), &mut hit);
            }
        }
        if let Some(child) = self.root.literal.get(first) {
            child.walk(levels, &mut hit);
        }
    }

    /// Whether any filter matches `topic`.
    pub fn matches_any(&self, topic: &str) -> bool {
        let mut any = false;
        self.for_each_match(topic, |_| any = true);
        any
    }
}

/// A node's literal children: a short list searched in order while small
/// (the usual case, and cheaper than hashing), a hash map beyond that.
#[derive(Debug, Clone)]
enum Children {
    Few(Vec<(Box<str>, Node)>),
    Many(HashMap<Box<str>, Node>),
}

impl Default for Children {
    fn default() -> Self {
        Children::Few(Vec::new())
    }
}

/// Past this many children a node hashes instead of comparing each.
const FEW: usize = 8;

impl Children {
    fn is_empty(&self) -> bool {
        match self {
            Children::Few(children) => children.is_empty(),
            Children::Many(children) => children.is_empty(),
        }
    }

    fn get(&self, level: &str) -> Option<&Node> {
        match self {
            Children::Few(children) => children
                .iter()
                .find(|(name, _)| &**name == level)
                .map(|(_, node)| node),
            Children::Many(children) => children.get(level),
        }
    }

    fn entry(&mut self, level: &str) -> &mut Node {
        if let Children::Few(children) = self
            && children.len() >= FEW
            && !children.iter().any(|(name, _)| &**name == level)
        {
            *self = Children::Many(std::mem::take(children).into_iter().collect());
        }
        match self {
            Children::Few(children) => {
                let position = match children.iter().position(|(name, _)| &**name == level) {
                    Some(position) => position,
                    None => {
                        children.push((level.into(), Node::default()));
                        children.len() - 1
                    }
                };
                &mut children[position].1
            }
            Children::Many(children) => children.entry(level.into()).or_default(),
        }
    }
}

impl Node {
    /// `self` has consumed the levels before `rest`.
    fn walk<'t>(
        &self,
        mut rest: impl Iterator<Item = &'t str> + Clone,
        hit: &mut impl FnMut(usize),
    ) {
        self.hash.iter().copied().for_each(&mut *hit);
        if self.end.is_empty() && self.plus.is_none() && self.literal.is_empty() {
            // Nothing below: no need to split the rest of the topic.
            return;
        }
        match rest.next() {
            None => self.end.iter().copied().for_each(hit),
            Some(level) => {
                if let Some(plus) = &self.plus {
                    plus.walk(rest.clone(), hit);
                }
                if let Some(child) = self.literal.get(level) {
                    child.walk(rest, hit);
                }
            }
        }
    }
}
