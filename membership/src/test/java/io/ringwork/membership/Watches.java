package io.ringwork.membership;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.apache.zookeeper.ZooKeeper;

/** The watches a ZooKeeper client still holds, read through its protected test accessors. */
final class Watches {

  private Watches() {}

  @SuppressWarnings("unchecked")
  static List<String> all(ZooKeeper zk) throws Exception {
    List<String> all = new ArrayList<>();
    for (String name :
        List.of(
            "getDataWatches",
            "getExistWatches",
            "getChildWatches",
            "getPersistentWatches",
            "getPersistentRecursiveWatches")) {
      Method m = ZooKeeper.class.getDeclaredMethod(name);
      m.setAccessible(true);
      for (String path : (List<String>) m.invoke(zk)) {
        all.add(name + ":" + path);
      }
    }
    return all;
  }
}
