"""Ray as the service runs on it: joining a cluster (``ray_cluster``), the Serve ingress environment
(``ingress``), task progress, heartbeats and cancellation (``progress``), and the detached actors that host
API-started and scheduled jobs (``jobs``). Below every package that runs on Ray; it knows none of them."""
