"""rosbag2 tooling on `rosbags` (sqlite3 and mcap): process offline, make the sample drive, play and record.
Only play and record import rclpy."""
