//! Running statistics of a timing, histogram or distribution over one flush interval, computed
//! as the original computes them (its `RunningStats`): a shifted-data mean and population
//! variance, sum, bounds, count, and percentiles read from a sample of at most
//! `percentile_limit` values (once full, a new value replaces a random one).

/// The statistics of one series.
#[derive(Debug, Clone, Default)]
pub struct RunningStats {
    /// The first value: the shift of the variance computation.
    k: f64,
    n: i64,
    ex: f64,
    ex2: f64,
    sum: f64,
    lower: f64,
    upper: f64,
    /// The values percentiles are read from (at most `limit`).
    perc: Vec<f64>,
    sorted: bool,
}

impl RunningStats {
    /// Adds `v` once.
    pub fn add(&mut self, v: f64, limit: usize) {
        self.add_times(v, 1, limit);
    }

    /// Adds `v` as `times` values (a sampled timing: `@0.1` counts each value 10 times). The
    /// sample for percentiles takes at most `limit` copies, so a tiny rate costs no more than
    /// a full sample.
    pub fn add_times(&mut self, v: f64, times: u64, limit: usize) {
        if times == 0 {
            return;
        }
        self.sorted = false;
        if self.n == 0 {
            self.k = v;
            self.upper = v;
            self.lower = v;
        }
        let t = times as f64;
        self.n = self
            .n
            .saturating_add(i64::try_from(times).unwrap_or(i64::MAX));
        let d = v - self.k;
        self.ex += t * d;
        self.ex2 += t * d * d;
        self.sum += t * v;
        if v > self.upper {
            self.upper = v;
        } else if v < self.lower {
            self.lower = v;
        }
        let limit = limit.max(1);
        let room = limit.saturating_sub(self.perc.len());
        let push = usize::try_from(times).unwrap_or(usize::MAX).min(room);
        self.perc.extend(std::iter::repeat_n(v, push));
        let rest = (times - push as u64).min(limit as u64);
        for _ in 0..rest {
            let i = fastrand::usize(..self.perc.len());
            self.perc[i] = v;
        }
    }

    pub fn count(&self) -> i64 {
        self.n
    }

    pub fn mean(&self) -> f64 {
        self.k + self.ex / self.n as f64
    }

    /// Population variance.
    pub fn variance(&self) -> f64 {
        let n = self.n as f64;
        ((self.ex2 - self.ex * self.ex / n) / n).max(0.0)
    }

    pub fn stddev(&self) -> f64 {
        self.variance().sqrt()
    }

    pub fn sum(&self) -> f64 {
        self.sum
    }

    pub fn upper(&self) -> f64 {
        self.upper
    }

    pub fn lower(&self) -> f64 {
        self.lower
    }

    /// The value at `p` percent of the sorted sample: the element at index
    /// `len * p / 100`, truncated and kept within the sample (the original's rule). `None`
    /// without values.
    pub fn percentile(&mut self, p: f64) -> Option<f64> {
        if self.perc.is_empty() {
            return None;
        }
        if !self.sorted {
            self.perc.sort_by(f64::total_cmp);
            self.sorted = true;
        }
        let p = p.min(100.0);
        let i = self.perc.len() as f64 * p / 100.0;
        let last = self.perc.len() - 1;
        let i = if i < 0.0 { 0 } else { (i as usize).min(last) };
        Some(self.perc[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_ten_values() {
        let mut s = RunningStats::default();
        for v in [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, 10.0] {
            s.add(v, 1000);
        }
        assert_eq!(s.count(), 10);
        assert_eq!(s.sum(), 55.0);
        assert_eq!(s.mean(), 5.5);
        assert!((s.variance() - 8.25).abs() < 1e-12);
        assert_eq!((s.lower(), s.upper()), (1.0, 10.0));
        // index = 10 * p / 100, truncated, at most 9.
        assert_eq!(s.percentile(50.0), Some(6.0));
        assert_eq!(s.percentile(90.0), Some(10.0));
        assert_eq!(s.percentile(99.0), Some(10.0));
        assert_eq!(s.percentile(100.0), Some(10.0));
        assert_eq!(s.percentile(0.0), Some(1.0));
        assert_eq!(s.percentile(25.0), Some(3.0));
    }

    #[test]
    fn weighted_values_count_as_many() {
        let mut a = RunningStats::default();
        a.add_times(2.0, 10, 1000);
        a.add(4.0, 1000);
        assert_eq!(a.count(), 11);
        assert_eq!(a.sum(), 24.0);
        let mut b = RunningStats::default();
        for _ in 0..10 {
            b.add(2.0, 1000);
        }
        b.add(4.0, 1000);
        assert!((a.mean() - b.mean()).abs() < 1e-12);
        assert!((a.stddev() - b.stddev()).abs() < 1e-12);
        assert_eq!(a.percentile(95.0), b.percentile(95.0));
    }

    #[test]
    fn the_sample_is_bounded() {
        let mut s = RunningStats::default();
        s.add_times(1.0, 1_000_000_000, 100);
        assert_eq!(s.count(), 1_000_000_000);
        assert_eq!(s.perc.len(), 100);
        for i in 0..1000 {
            s.add(f64::from(i), 100);
        }
        assert_eq!(s.perc.len(), 100);
        assert_eq!(RunningStats::default().percentile(50.0), None);
    }
}
