package io.ringwork.benchmarks.latency;

import io.ringwork.membership.Membership;
import io.ringwork.ring.Member;
import java.time.Duration;

/** A member in its own JVM: {@code MemberMain CONNECT GROUP ID SESSION_MS}; prints JOINED. */
public final class MemberMain {

  private MemberMain() {}

  /** Joins and waits to be killed. */
  public static void main(String[] args) throws Exception {
    Membership m =
        Membership.newBuilder()
            .group(args[1])
            .member(Member.of(args[2]))
            .connectString(args[0])
            .sessionTimeout(Duration.ofMillis(Long.parseLong(args[3])))
            .build();
    m.start();
    System.out.println("JOINED");
    System.out.flush();
    Thread.currentThread().join();
  }
}
