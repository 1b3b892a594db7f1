package io.ringwork.test;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;

/**
 * What a closed component must not leave behind (Curator's {@code TestCleanState}): an ephemeral
 * node anywhere in the tree, or a watch on any server. Watches are counted with the {@code wchs}
 * four-letter word, which the fixture's embedded servers allow.
 */
final class LeakCheck {

  /** The pause between two looks while sessions are still closing. */
  private static final long LOOK_INTERVAL_MS = 100;

  private LeakCheck() {}

  static void assertNoLeaks(
      CuratorFramework observer, List<Integer> clientPorts, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String leaks;
      try {
        leaks = leaks(observer, clientPorts);
      } catch (Exception e) {
        leaks = "the look failed: " + e;
      }
      if (leaks.isEmpty()) {
        return;
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new AssertionError("left behind after " + timeout + ": " + leaks);
      }
      try {
        Thread.sleep(LOOK_INTERVAL_MS); // sessions end on the server's schedule: look again
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while checking for leaks: " + leaks, e);
      }
    }
  }

  /** What is left, or an empty string. */
  private static String leaks(CuratorFramework observer, List<Integer> clientPorts)
      throws Exception {
    List<String> found = new ArrayList<>();
    List<String> ephemerals = ephemerals(observer, "/");
    if (!ephemerals.isEmpty()) {
      found.add("ephemeral nodes " + ephemerals);
    }
    long watches = 0;
    for (int port : clientPorts) {
      watches += watchesOf(port);
    }
    if (watches != 0) {
      found.add(watches + " watches ('wchs' per server)");
    }
    return String.join("; ", found);
  }

  static String fourLetterWord(int port, String word) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write(word.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (Exception e) {
      return ""; // a server that is down answers nothing
    }
  }

  private static List<String> ephemerals(CuratorFramework observer, String path) throws Exception {
    List<String> found = new ArrayList<>();
    for (String child : observer.getChildren().forPath(path)) {
      String full = path.equals("/") ? "/" + child : path + "/" + child;
      if (full.equals("/zookeeper")) {
        continue;
      }
      Stat stat = observer.checkExists().forPath(full);
      if (stat == null) {
        continue;
      }
      if (stat.getEphemeralOwner() != 0) {
        found.add(full + " (session 0x" + Long.toHexString(stat.getEphemeralOwner()) + ")");
      }
      if (stat.getNumChildren() > 0) {
        found.addAll(ephemerals(observer, full));
      }
    }
    return found;
  }

  private static long watchesOf(int port) {
    String answer = fourLetterWord(port, "wchs");
    if (answer.isEmpty()) {
      return 0; // a server that is down holds no watch
    }
    for (String line : answer.split("\n")) {
      if (line.startsWith("Total watches:")) {
        return Long.parseLong(line.substring("Total watches:".length()).trim());
      }
    }
    throw new IllegalStateException(
        "the server on port " + port + " did not count its watches: " + answer.strip());
  }
}
