"""Backends: one file each behind one small interface (`base.Backend`); no rclpy."""
