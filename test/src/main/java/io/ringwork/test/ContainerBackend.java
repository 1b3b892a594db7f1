package io.ringwork.test;

import java.util.List;
import org.testcontainers.containers.GenericContainer;

/**
 * A ZooKeeper server in a Docker container (Testcontainers). Stopping pauses the container, so that
 * the restarted server keeps its port and its data.
 */
final class ContainerBackend implements RingworkZooKeeper.Backend {

  private static final int CLIENT_PORT = 2181;

  private final GenericContainer<?> container;

  ContainerBackend(String image) {
    container = new GenericContainer<>(image).withExposedPorts(CLIENT_PORT);
    container.start();
  }

  @Override
  public String connectString() {
    return container.getHost() + ":" + container.getMappedPort(CLIENT_PORT);
  }

  /** The leak check asks each server for its watches, which the image does not allow. */
  @Override
  public List<Integer> clientPorts() {
    throw new UnsupportedOperationException(
        "the leak check and the four-letter words need an embedded server, not a container");
  }

  @Override
  public void stop() {
    container.getDockerClient().pauseContainerCmd(container.getContainerId()).exec();
  }

  @Override
  public void restart() {
    container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
  }

  @Override
  public void close() {
    container.stop();
  }
}
