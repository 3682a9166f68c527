"""dorm circuit breakers created at module level (AG309 follows them into other modules)."""
import threading

from dorm.contrib.circuit_breaker import circuit_breaker

payments = circuit_breaker("payments", failure_threshold=5)
lock = threading.Lock()
