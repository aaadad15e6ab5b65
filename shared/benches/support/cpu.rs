//! CPU time as Linux counts it, for the benches that compare it with the clock.

use std::time::Duration;

/// The CPU time (user and system) every thread of this process has used so far, from
/// `/proc/self/stat` (fields 14 and 15, in clock ticks of 1/100 s on Linux). Every thread:
/// the store's file work runs on tokio's blocking threads, not the thread that awaits it.
pub(crate) fn process() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after_name = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}
