"""PerProcess: one background-thread object per process, replaced when its thread has died."""

import threading

from civicgrid.core.threads import PerProcess


class Worker:
    def __init__(self):
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.stopping.wait, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(5)


def test_one_instance_is_shared_until_its_thread_dies_then_a_new_one_is_made():
    # given a holder and its first instance
    holder = PerProcess(Worker)
    first = holder.get()
    # when asked again, then the same instance answers
    assert holder.get() is first and holder.current() is first
    # when its thread dies, then the next use makes a new one
    first.stop()
    assert holder.current() is None
    second = holder.get()
    assert second is not first and second.thread.is_alive()
    second.stop()


def test_take_forgets_the_instance_and_hands_it_over_once():
    # given a running instance
    holder = PerProcess(Worker)
    running = holder.get()
    # when it is taken (to stop it)
    taken = holder.take()
    # then the caller has it, and the holder has none any more
    assert taken is running
    assert holder.take() is None and holder.current() is None
    taken.stop()
