#!/usr/bin/env bash
# Fetches AWS's DynamoDB Local (software.amazon.dynamodb:DynamoDBLocal, newest 2.x or 3.x) from Maven Central
# into .wsgate/dynamodb-local/ (git-ignored), with its dependencies and sqlite4java native libraries.
# Idempotent: does nothing when DynamoDBLocal.jar is already there. Needs Java 17+ and Maven.
# Start it with:
#   java -Djava.library.path=.wsgate/dynamodb-local/lib -jar .wsgate/dynamodb-local/DynamoDBLocal.jar -inMemory -port 8000
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="$ROOT/.wsgate/dynamodb-local"
# Maven Central holds only 3.x releases of DynamoDBLocal today (2.x poms answer 404), so the range admits both.
VERSION_RANGE="${DYNAMODB_LOCAL_VERSION:-[2.0,4.0)}"

if [ -f "$TARGET/DynamoDBLocal.jar" ]; then
  echo "DynamoDB Local already in $TARGET"
  exit 0
fi
command -v mvn >/dev/null || { echo "fetch-dynamodb-local: mvn (Maven) is not installed" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch-dynamodb-local: java (17+) is not installed" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>wsgate.local</groupId>
  <artifactId>fetch-dynamodb-local</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>software.amazon.dynamodb</groupId>
      <artifactId>DynamoDBLocal</artifactId>
      <version>$VERSION_RANGE</version>
      <!-- SDK clients DynamoDB Local does not use for -inMemory tables, and which Maven Central lacks for 3.3.1. -->
      <exclusions>
        <exclusion><groupId>software.amazon.awssdk</groupId><artifactId>cognitoidentity</artifactId></exclusion>
        <exclusion><groupId>software.amazon.awssdk</groupId><artifactId>cognitoidentityprovider</artifactId></exclusion>
        <exclusion><groupId>software.amazon.awssdk</groupId><artifactId>pinpoint</artifactId></exclusion>
        <exclusion><groupId>software.amazon.awssdk</groupId><artifactId>dynamodb-enhanced</artifactId></exclusion>
      </exclusions>
    </dependency>
  </dependencies>
</project>
POM

mkdir -p "$TARGET/lib"
# Every jar and the sqlite4java native libraries (.so/.dylib/.dll) land in lib/.
mvn -q -B -f "$WORK/pom.xml" dependency:copy-dependencies \
  -DoutputDirectory="$TARGET/lib" -DincludeScope=runtime
# DynamoDBLocal's manifest has no Class-Path for Maven's file names; a tiny launcher jar would be overkill,
# so the main jar is copied next to lib/ and started with -cp by callers that want it (see below).
MAIN_JAR="$(ls "$TARGET"/lib/DynamoDBLocal-*.jar | head -n 1)"
cp "$MAIN_JAR" "$TARGET/DynamoDBLocal.jar"
# sqlite4java looks for libsqlite4java-<os>-<arch>.so; Maven names them sqlite4java-linux-amd64-<ver>.so.
for native in "$TARGET"/lib/*sqlite4java*.{so,dylib,dll}; do
  [ -e "$native" ] || continue
  base="$(basename "$native")"
  ext="${base##*.}"
  stem="${base%-*}"   # drop -<version>.<ext>
  case "$base" in
    lib*) cp "$native" "$TARGET/lib/$stem.$ext" ;;
    *)    cp "$native" "$TARGET/lib/lib$stem.$ext" ;;
  esac
done
echo "DynamoDB Local $(basename "$MAIN_JAR" .jar) fetched into $TARGET"
