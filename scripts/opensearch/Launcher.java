/*
 * Minimal launcher for a single-node OpenSearch used in local development.
 *
 * It starts an embedded node the way OpenSearch's test MockNode does: a subclass of
 * org.opensearch.node.Node built with the protected constructor that accepts plugin
 * classes found on the classpath (no plugins/ or modules/ directory is needed).
 *
 * Usage: java -cp "lib/*:classes" Launcher <home-dir>
 *   <home-dir> (or env OPENSEARCH_HOME_DIR) holds config/, data/ and logs/.
 *   env OPENSEARCH_PORT       HTTP port (default 9200)
 *   env OPENSEARCH_TRANSPORT  transport port (default 9300)
 *
 * Driven by scripts/opensearch.sh; runs until SIGTERM, then closes the node.
 */

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.ExtensiblePlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

public final class Launcher {

    /** Node with classpath plugins (same trick as MockNode in OpenSearch's test framework). */
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    private static final String LOG4J2_PROPERTIES = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        "");

    public static void main(String[] args) throws Exception {
        // Same as the distribution's jvm.options: the node closes log4j itself on shutdown.
        System.setProperty("log4j.shutdownHookEnabled", "false");
        System.setProperty("log4j2.disable.jmx", "true");
        String homeArg = args.length > 0 ? args[0] : System.getenv("OPENSEARCH_HOME_DIR");
        if (homeArg == null || homeArg.isEmpty()) {
            System.err.println("usage: Launcher <home-dir>   (or set OPENSEARCH_HOME_DIR)");
            System.exit(2);
        }
        Path home = Paths.get(homeArg).toAbsolutePath().normalize();
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Files.createDirectories(home.resolve("data"));
        Files.createDirectories(home.resolve("logs"));
        Path log4j = config.resolve("log4j2.properties");
        if (!Files.exists(log4j)) {
            Files.write(log4j, LOG4J2_PROPERTIES.getBytes(StandardCharsets.UTF_8));
        }

        Settings settings = Settings.builder()
            .put("cluster.name", "coleta-dev")
            .put("node.name", "coleta-1")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", env("OPENSEARCH_PORT", "9200"))
            .put("transport.port", env("OPENSEARCH_TRANSPORT", "9300"))
            .put("discovery.type", "single-node")
            // dev box: never flip indices to read-only because the disk is fairly full
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();

        LogConfigurator.registerErrorListener();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), config, () -> "coleta-1");
        LogConfigurator.setNodeName("coleta-1");
        LogConfigurator.configure(environment);

        // Classpath plugins do not get ExtensiblePlugin.loadExtensions() from PluginsService (only
        // plugin/module bundles do). Painless keeps its allowlists in a static map, so feed it the
        // PainlessExtension SPI implementations found on the classpath (e.g. analysis-common's).
        new PainlessPlugin().loadExtensions(new ExtensiblePlugin.ExtensionLoader() {
            @Override
            public <T> List<T> loadExtensions(Class<T> type) {
                List<T> found = new ArrayList<>();
                ServiceLoader.load(type, Launcher.class.getClassLoader()).forEach(found::add);
                return found;
            }
        });

        List<Class<? extends Plugin>> plugins = List.of(
            Netty4Plugin.class,
            CommonAnalysisPlugin.class,
            MapperExtrasPlugin.class,
            PainlessPlugin.class);

        Node node = new EmbeddedNode(environment, plugins);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "coleta-opensearch-shutdown"));

        node.start();
        stopped.await(); // keep main alive until the shutdown hook has closed the node
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
