package io.ringwork.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Resolves Ringwork as a user's build would (issue 23): two small projects outside the reactor, one
 * importing {@code ringwork-bom} and one naming versions itself, each depending on {@code
 * ringwork-rebalancer} and {@code ringwork-test}, resolved by a separate Maven run; the versions
 * they get must be the ones this build is tested with (the parent POM's properties).
 *
 * <p>The reactor's artifacts go into a local repository of their own under {@code target/}, never
 * into the shared one; every other artifact is read from the shared local repository, served as a
 * {@code file://} mirror of everything, so the run needs no network.
 */
final class EmbeddingIT {

  private static final String GROUP = "io.ringwork";
  private static final List<String> MODULES =
      List.of("ring", "membership", "lock-fallback", "rebalancer", "test");

  private static String property(String name) {
    String value = System.getProperty(name);
    assertThat(value).as("system property %s (set by failsafe in test/pom.xml)", name).isNotBlank();
    return value;
  }

  @Test
  void userBuild_withAndWithoutTheBom_resolvesTheTestedVersions() throws Exception {
    String version = property("ringwork.version");
    Path root = Path.of("..").toAbsolutePath().normalize();
    Path work = Path.of("target", "embedding").toAbsolutePath();
    Path repo = work.resolve("repo");
    deleteTree(repo.resolve("io/ringwork"));
    install(repo, "ringwork-parent", version, root.resolve("pom.xml"), null);
    install(repo, "ringwork-bom", version, root.resolve("bom/pom.xml"), null);
    for (String m : MODULES) {
      Path jar =
          root.resolve(m).resolve("target").resolve("ringwork-" + m + "-" + version + ".jar");
      assertThat(jar).as("built by package before integration-test").exists();
      install(repo, "ringwork-" + m, version, root.resolve(m).resolve("pom.xml"), jar);
    }
    Path settings = work.resolve("settings.xml");
    Files.writeString(
        settings,
        "<settings><mirrors><mirror><id>shared-local</id><mirrorOf>*</mirrorOf><url>"
            + Path.of(property("shared.repository")).toUri()
            + "</url></mirror></mirrors></settings>\n");
    Path project = work.resolve("project");
    Files.createDirectories(project.resolve("with-bom"));
    Files.createDirectories(project.resolve("without-bom"));
    Files.writeString(project.resolve("pom.xml"), aggregator());
    Files.writeString(project.resolve("with-bom/pom.xml"), user("with-bom", version, true));
    Files.writeString(project.resolve("without-bom/pom.xml"), user("without-bom", version, false));

    List<String> command = new ArrayList<>();
    command.add(Path.of(property("maven.home"), "bin", "mvn").toString());
    command.addAll(
        List.of(
            "-B",
            "-q",
            "-s",
            settings.toString(),
            "-Dmaven.repo.local=" + repo,
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:list",
            "-DoutputFile=deps.txt"));
    Process mvn =
        new ProcessBuilder(command)
            .directory(project.toFile())
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("mvn.log").toFile())
            .start();
    assertThat(mvn.waitFor(5, TimeUnit.MINUTES)).as("mvn dependency:list finishes").isTrue();
    assertThat(mvn.exitValue())
        .as(Files.readString(work.resolve("mvn.log"), StandardCharsets.UTF_8))
        .isZero();

    String tested = property("zookeeper.version");
    for (String p : List.of("with-bom", "without-bom")) {
      String deps = Files.readString(project.resolve(p).resolve("deps.txt"));
      assertThat(deps)
          .as(p)
          .contains("org.apache.zookeeper:zookeeper:jar:" + tested + ":compile")
          .contains("com.google.guava:guava:jar:" + property("guava.version") + ":compile")
          .contains("org.apache.curator:curator-framework:jar:" + property("curator.version") + ":")
          .contains("io.ringwork:ringwork-test:jar:" + version + ":test");
    }
    assertThat(Files.readString(project.resolve("with-bom/deps.txt")))
        .contains("org.junit.jupiter:junit-jupiter-api:jar:" + property("junit.version") + ":test");
  }

  private static void install(Path repo, String artifact, String version, Path pom, Path jar)
      throws IOException {
    Path dir = repo.resolve(GROUP.replace('.', '/')).resolve(artifact).resolve(version);
    Files.createDirectories(dir);
    Files.copy(pom, dir.resolve(artifact + "-" + version + ".pom"));
    if (jar != null) {
      Files.copy(jar, dir.resolve(artifact + "-" + version + ".jar"));
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static String aggregator() {
    return """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>example</groupId>
          <artifactId>users</artifactId>
          <version>1</version>
          <packaging>pom</packaging>
          <modules><module>with-bom</module><module>without-bom</module></modules>
        </project>
        """;
  }

  private static String user(String name, String version, boolean bom) {
    String managed =
        bom
            ? """
              <dependencyManagement><dependencies><dependency>
                <groupId>io.ringwork</groupId><artifactId>ringwork-bom</artifactId>
                <version>%s</version><type>pom</type><scope>import</scope>
              </dependency></dependencies></dependencyManagement>
            """
                .formatted(version)
            : "";
    String v = bom ? "" : "<version>" + version + "</version>";
    return """
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>example</groupId>
          <artifactId>%s</artifactId>
          <version>1</version>
          %s
          <dependencies>
            <dependency>
              <groupId>io.ringwork</groupId><artifactId>ringwork-rebalancer</artifactId>%s
            </dependency>
            <dependency>
              <groupId>io.ringwork</groupId><artifactId>ringwork-test</artifactId>%s
              <scope>test</scope>
            </dependency>
          </dependencies>
        </project>
        """
        .formatted(name, managed, v, v);
  }
}
