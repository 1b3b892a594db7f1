package io.ringwork.membership;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP forwarder between one ZooKeeper client and a server, on 127.0.0.1 at a port it picks, with
 * switches that create the network faults the exclusivity tests need:
 *
 * <ul>
 *   <li>{@link #blackhole(boolean)}: a silent partition. Bytes in both directions are read and
 *       dropped while the connections stay open, so neither side sees an error: the client notices
 *       only through its read timeout (2/3 of the session timeout) and the server expires the
 *       session at its timeout, exactly as with a pulled cable. New connections are accepted and
 *       blackholed too.
 *   <li>{@link #loseReplies()}: lost replies. From now on, requests still reach the server (which
 *       applies them) but nothing comes back; after {@code delayMillis} every connection is cut, so
 *       the client sees ConnectionLoss for requests the server has applied.
 *   <li>{@link #cut()}: closes every open connection at once (a reset), leaving new ones working.
 * </ul>
 *
 * <p>Point a client at {@link #connectString()} instead of the server's. Close it after the test.
 */
public final class FaultProxy implements AutoCloseable {

  private final InetSocketAddress target;
  private final ServerSocket listener;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean blackhole;
  private volatile boolean dropReplies;
  private final Thread acceptor;

  /** Starts forwarding to {@code host:port} (for example a TestingServer's). */
  public FaultProxy(String host, int port) throws IOException {
    this.target = new InetSocketAddress(host, port);
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = new Thread(this::accept, "fault-proxy-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Starts forwarding to a connect string of one server, {@code host:port}. */
  public static FaultProxy to(String connectString) throws IOException {
    int colon = connectString.lastIndexOf(':');
    return new FaultProxy(
        connectString.substring(0, colon), Integer.parseInt(connectString.substring(colon + 1)));
  }

  /** The connect string a client uses to go through this proxy. */
  public String connectString() {
    return "127.0.0.1:" + listener.getLocalPort();
  }

  /**
   * Turns the silent partition on (drop everything, close nothing) or off. Turning it off cuts the
   * connections that lived through it (their byte streams lost data mid-frame); new ones work.
   */
  public void blackhole(boolean on) {
    if (!on && blackhole) {
      cut();
    }
    blackhole = on;
  }

  /** Returns whether the silent partition is on. */
  public boolean blackholed() {
    return blackhole;
  }

  /**
   * Lets requests through but drops every reply, then after {@code delayMillis} cuts every
   * connection and goes back to normal forwarding: the client sees ConnectionLoss for requests that
   * the server applied.
   */
  public void loseReplies(long delayMillis) {
    dropReplies = true;
    Thread t =
        new Thread(
            () -> {
              try {
                Thread.sleep(delayMillis);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              cut();
              dropReplies = false;
            },
            "fault-proxy-lose-replies");
    t.setDaemon(true);
    t.start();
  }

  /** Closes every open connection (the client reconnects through the proxy). */
  public void cut() {
    for (Socket s : open) {
      closeQuietly(s);
    }
    open.clear();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closeQuietly(listener);
    cut();
  }

  private void accept() {
    while (!closed.get()) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      Socket server = new Socket();
      try {
        server.connect(target, 2000);
      } catch (IOException e) {
        closeQuietly(client);
        closeQuietly(server);
        continue;
      }
      open.add(client);
      open.add(server);
      pump(client, server, false);
      pump(server, client, true);
    }
  }

  private void pump(Socket from, Socket to, boolean reply) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  if (blackhole || (reply && dropReplies)) {
                    continue; // swallowed: the peer hears nothing and sees no error
                  }
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException e) {
                // one side closed: close the other
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
              }
            },
            "fault-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing anyway
    }
  }
}
