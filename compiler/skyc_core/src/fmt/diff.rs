//! A unified line diff (`skyc fmt --check` shows what formatting would change).

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Del,
    Add,
}

/// Beyond this many cells the middle of the files is shown as one replacement.
const MAX_CELLS: usize = 16_000_000;

/// The edit script from `a` to `b` (lines), shortest by longest common subsequence.
fn script<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<(Op, &'t str)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut out: Vec<(Op, &str)> = a[..prefix].iter().map(|l| (Op::Same, *l)).collect();
    let (n, m) = (ma.len(), mb.len());
    if n * m > MAX_CELLS {
        out.extend(ma.iter().map(|l| (Op::Del, *l)));
        out.extend(mb.iter().map(|l| (Op::Add, *l)));
    } else {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..].
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                out.push((Op::Same, ma[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                out.push((Op::Del, ma[i]));
                i += 1;
            } else {
                out.push((Op::Add, mb[j]));
                j += 1;
            }
        }
    }
    out.extend(a[a.len() - suffix..].iter().map(|l| (Op::Same, *l)));
    out
}

fn push_line(out: &mut String, mark: char, line: &str) {
    out.push(mark);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// The unified diff (3 lines of context) from `old` to `new`; empty when they are equal.
pub fn unified_diff(old_name: &str, new_name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = script(&a, &b);
    let changed: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].0 != Op::Same).collect();
    if changed.is_empty() {
        return String::new();
    }
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // Hunks: runs of changes with their context, merged when the contexts touch.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &c in &changed {
        let (start, end) = (c.saturating_sub(3), (c + 4).min(ops.len()));
        match hunks.last_mut() {
            Some(h) if start <= h.1 => h.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    for (start, end) in hunks {
        let old_before = ops[..start].iter().filter(|o| o.0 != Op::Add).count();
        let new_before = ops[..start].iter().filter(|o| o.0 != Op::Del).count();
        let old_len = ops[start..end].iter().filter(|o| o.0 != Op::Add).count();
        let new_len = ops[start..end].iter().filter(|o| o.0 != Op::Del).count();
        let at = |before: usize, len: usize| if len == 0 { before } else { before + 1 };
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            at(old_before, old_len),
            at(new_before, new_len)
        ));
        for (op, line) in &ops[start..end] {
            let mark = match op {
                Op::Same => ' ',
                Op::Del => '-',
                Op::Add => '+',
            };
            push_line(&mut out, mark, line);
        }
    }
    out
}

/// The 0-based index of the first line where `old` and `new` differ.
pub fn first_changed_line(old: &str, new: &str) -> usize {
    old.split_inclusive('\n')
        .zip(new.split_inclusive('\n'))
        .take_while(|(a, b)| a == b)
        .count()
}
