//! `container_include_log` / `container_exclude_log`: rules `image:<glob>`,
//! `image_name:<glob>`, `image_short_name:<glob>`, `namespace:<glob>`, as the original reads
//! them. Each kind is its own include/exclude pair: a container passes a kind when it matches
//! one of the kind's include globs (or there are none) and none of its exclude globs; it is
//! kept when it passes every kind. A glob's `*` matches any characters, `/` included; a value
//! that is empty (no namespace outside Kubernetes) passes.

use globset::{Glob, GlobSet, GlobSetBuilder};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    ImageName,
    ImageShortName,
    Namespace,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::Image,
        Kind::ImageName,
        Kind::ImageShortName,
        Kind::Namespace,
    ];
    fn prefix(self) -> &'static str {
        match self {
            Kind::Image => "image:",
            Kind::ImageName => "image_name:",
            Kind::ImageShortName => "image_short_name:",
            Kind::Namespace => "namespace:",
        }
    }
}

/// Why a rule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error(
        "`{0}` has no known kind: write `image:<glob>`, `image_name:<glob>`, `image_short_name:<glob>` or `namespace:<glob>`"
    )]
    NoKind(String),
    #[error("`{rule}`: {why}")]
    Glob { rule: String, why: String },
}

#[derive(Debug, Default)]
struct Pair {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Pair {
    fn matches(&self, value: &str) -> bool {
        if value.is_empty() {
            return true;
        }
        self.include.as_ref().is_none_or(|s| s.is_match(value))
            && !self.exclude.as_ref().is_some_and(|s| s.is_match(value))
    }
}

/// The compiled rules.
#[derive(Debug, Default)]
pub struct Filter {
    pairs: [Pair; 4],
}

/// The kind and the glob of one rule.
pub fn split(rule: &str) -> Result<(Kind, &str), RuleError> {
    let r = rule.trim();
    for k in Kind::ALL {
        if let Some(g) = r.strip_prefix(k.prefix()) {
            return Ok((k, g.trim()));
        }
    }
    Err(RuleError::NoKind(rule.to_string()))
}

fn compile(rules: &[String], kind: Kind) -> Result<Option<GlobSet>, RuleError> {
    let mut b = GlobSetBuilder::new();
    let mut any = false;
    for rule in rules {
        let (k, g) = split(rule)?;
        if k != kind || g.is_empty() {
            continue;
        }
        let glob = Glob::new(g).map_err(|e| RuleError::Glob {
            rule: rule.clone(),
            why: e.kind().to_string(),
        })?;
        b.add(glob);
        any = true;
    }
    if !any {
        return Ok(None);
    }
    b.build().map(Some).map_err(|e| RuleError::Glob {
        rule: rules.join(", "),
        why: e.to_string(),
    })
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filter, RuleError> {
        let mut f = Filter::default();
        for (i, k) in Kind::ALL.into_iter().enumerate() {
            f.pairs[i] = Pair {
                include: compile(include, k)?,
                exclude: compile(exclude, k)?,
            };
        }
        Ok(f)
    }

    /// Whether a container with this image and namespace is kept.
    pub fn keeps(&self, image: &str, namespace: &str) -> bool {
        let parts = ImageParts::of(image);
        self.pairs[0].matches(image)
            && self.pairs[1].matches(parts.name)
            && self.pairs[2].matches(parts.short_name)
            && self.pairs[3].matches(namespace)
    }
}

/// `registry:5000/group/nginx:1.21@sha256:...` → name `registry:5000/group/nginx`, short name
/// `nginx`, tag `1.21`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageParts<'a> {
    pub name: &'a str,
    pub short_name: &'a str,
    pub tag: &'a str,
}

impl<'a> ImageParts<'a> {
    pub fn of(image: &'a str) -> ImageParts<'a> {
        let no_digest = image.split('@').next().unwrap_or(image);
        let last_slash = no_digest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match no_digest[last_slash..].rfind(':') {
            Some(c) => (
                &no_digest[..last_slash + c],
                &no_digest[last_slash + c + 1..],
            ),
            None => (no_digest, ""),
        };
        ImageParts {
            name,
            short_name: &name[name.rfind('/').map_or(0, |i| i + 1)..],
            tag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn image_parts() {
        assert_eq!(
            ImageParts::of("reg:5000/group/nginx:1.21@sha256:ab"),
            ImageParts {
                name: "reg:5000/group/nginx",
                short_name: "nginx",
                tag: "1.21"
            }
        );
        assert_eq!(
            ImageParts::of("busybox"),
            ImageParts {
                name: "busybox",
                short_name: "busybox",
                tag: ""
            }
        );
    }

    #[test]
    fn the_originals_default_excludes_and_includes() {
        let f = Filter::new(&[], &v(&["image:*logfwd*", "image:*datakit*"])).unwrap();
        assert!(f.keeps("nginx:1.21", ""));
        assert!(!f.keeps("pubrepo.guance.com/datakit/datakit:1.5", ""));
        let f = Filter::new(&v(&["image_short_name:nginx", "namespace:prod*"]), &[]).unwrap();
        assert!(f.keeps("reg/x/nginx:1", "production"));
        assert!(!f.keeps("reg/x/nginx:1", "dev"));
        assert!(!f.keeps("redis:7", ""));
        // `*` crosses `/`.
        let f = Filter::new(&v(&["image:*"]), &v(&["image:reg/*"])).unwrap();
        assert!(f.keeps("busybox", ""));
        assert!(!f.keeps("reg/a/b:1", ""));
    }

    #[test]
    fn bad_rules_are_refused() {
        assert!(matches!(
            Filter::new(&v(&["nginx"]), &[]),
            Err(RuleError::NoKind(_))
        ));
        assert!(matches!(
            Filter::new(&v(&["image:[a"]), &[]),
            Err(RuleError::Glob { .. })
        ));
    }
}
