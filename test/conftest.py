import os

# DDS traffic never leaves this machine, and a domain per test session keeps parallel runs apart.
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_LOCALHOST_ONLY', '1')
os.environ.setdefault('ROS_DOMAIN_ID', str(10 + os.getpid() % 90))
