"""The unified network, its losses, training, weights files and ONNX export (no rclpy)."""
