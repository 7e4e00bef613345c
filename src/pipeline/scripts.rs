//! The built-in scripts for common log sources, shipped in the binary.
//!
//! Written for this project from the fields DataKit documents for each source; a script of
//! the same name in `<workdir>/pipeline/` replaces the built-in one.

/// `(file name, source)` of every built-in logging script.
pub static BUILTIN: &[(&str, &str)] = &[
    ("apache.p", include_str!("scripts/apache.p")),
    ("consul.p", include_str!("scripts/consul.p")),
    ("elasticsearch.p", include_str!("scripts/elasticsearch.p")),
    ("jenkins.p", include_str!("scripts/jenkins.p")),
    ("kafka.p", include_str!("scripts/kafka.p")),
    ("mongodb.p", include_str!("scripts/mongodb.p")),
    ("mysql.p", include_str!("scripts/mysql.p")),
    ("nginx.p", include_str!("scripts/nginx.p")),
    ("postgresql.p", include_str!("scripts/postgresql.p")),
    ("rabbitmq.p", include_str!("scripts/rabbitmq.p")),
    ("redis.p", include_str!("scripts/redis.p")),
    ("solr.p", include_str!("scripts/solr.p")),
    ("tomcat.p", include_str!("scripts/tomcat.p")),
];

/// The source of a built-in script.
pub fn get(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}
